"""Which folders the tally wheel carries; everything else about the package is in pyproject.toml.

`sql/` and `expectations/` stay at the top of the checkout, where they are read and edited; the
wheel carries them inside the package as `flows/_sql` and `flows/_expectations`, which
`flows/resources.py` reads when there is no checkout. pyproject.toml cannot say this: its
`packages.find` cannot add a package that lives in another folder, and an explicit package
list is how subpackages went missing from the wheel before. Their files are listed under
`[tool.setuptools.package-data]` in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

SHIPPED = {"flows._sql": "sql", "flows._expectations": "expectations"}
# Each subfolder (sql/staging, sql/marts, …) is a package of its own for setuptools.
SUBFOLDERS = [f"{package}.{sub}" for package, folder in SHIPPED.items()
              for sub in find_namespace_packages(where=folder)]

setup(
    packages=[*find_namespace_packages(include=["flows*"], exclude=["*__pycache__"]), *SHIPPED,
              *SUBFOLDERS],
    package_dir=SHIPPED,
)
