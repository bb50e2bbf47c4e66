"""Validates FHIR JSON files with an independent implementation (PyPI's fhir.resources, its R4B
models, which match R4 for the resources Hamroh writes). Every resource inside a Bundle is
validated on its own as well, and so is every line of an NDJSON file (FHIR Bulk Data). Exit
status 1 and one line per problem when anything is invalid.

    python3 tests/fhir/validate.py FILE_OR_DIR ...
"""
import importlib
import json
import pathlib
import sys


def model(resource_type):
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def validate(resource, where, problems):
    kind = resource.get("resourceType", "?")
    try:
        model(kind).model_validate(resource)
    except Exception as e:  # noqa: BLE001 - every failure is a finding
        first = str(e).splitlines()
        problems.append(f"{where}: {kind}: {' | '.join(first[:4])}")
    if kind == "Bundle":
        for n, entry in enumerate(resource.get("entry", [])):
            validate(entry["resource"], f"{where} entry {n}", problems)


def main():
    problems, count = [], 0
    for arg in sys.argv[1:]:
        path = pathlib.Path(arg)
        files = sorted([*path.glob("*.json"), *path.glob("*.ndjson")]) if path.is_dir() else [path]
        for f in files:
            if f.suffix == ".ndjson":
                with f.open(encoding="utf-8") as lines:
                    for n, line in enumerate(lines, start=1):
                        validate(json.loads(line), f"{f.name} line {n}", problems)
            else:
                validate(json.loads(f.read_text(encoding="utf-8")), f.name, problems)
            count += 1
    for p in problems:
        print(p)
    print(f"{count} file(s) checked, {len(problems)} problem(s)")
    sys.exit(1 if problems or count == 0 else 0)


if __name__ == "__main__":
    main()
