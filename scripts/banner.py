"""Printed by `make run`: where to go and which demo logins exist."""

import os

port = os.environ.get("PORT", "8000")
print(
    f"""
==================================================================
 Patolab is starting on http://127.0.0.1:{port}/
 Demo logins (demo data only), password for all: patolab-demo
   admin         administrator (also /admin/)
   recepcion     lab staff (reception, labels, work orders)
   patologo      histopathologist (reports)
   veterinario   veterinarian (portal, submissions)
   veterinario2  a second veterinarian
 Health: curl http://127.0.0.1:{port}/up      Stop: Ctrl-C
==================================================================
"""
)
