"""Runs ODK Validate (the JavaRosa validator that PyPI's pyxform ships) on every .xml in a folder.

Exit 0 when every form is valid; otherwise prints each failing form with the validator's words.
"""

import os
import subprocess
import sys

import pyxform.validators.odk_validate as odk_validate

jar = os.path.join(os.path.dirname(odk_validate.__file__), "bin", "ODK_Validate.jar")
folder = sys.argv[1]
forms = sorted(f for f in os.listdir(folder) if f.endswith(".xml"))
if not forms:
    sys.exit(f"no forms in {folder}")
failed = []
for name in forms:
    run = subprocess.run(["java", "-jar", jar, os.path.join(folder, name)], capture_output=True, text=True)
    words = (run.stdout + run.stderr).strip()
    if run.returncode != 0 or "Xform is valid" not in words:
        failed.append(f"== {name}\n{words}")
    elif "warning" in words.lower():
        failed.append(f"== {name} (valid, with warnings)\n{words}")
print(f"ODK Validate: {len(forms) - len(failed)} of {len(forms)} forms valid")
if failed:
    print("\n".join(failed))
    sys.exit(1)
