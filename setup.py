"""Package discovery for the top-level layout.

The source folders ``extractors/``, ``matcher/``, ``index/``, ``api/`` and
``benchmarks/`` sit at the repository root (the layout the project asked for)
and install as subpackages of the ``biomatch`` namespace, so that generic names
such as ``index`` or ``api`` never land as top-level modules in site-packages.
Everything else (metadata, dependencies) lives in ``pyproject.toml``.
"""
from setuptools import find_packages, setup

LAYERS = ("extractors", "matcher", "index", "api", "benchmarks")

packages, package_dir = [], {}
for layer in LAYERS:
    package_dir[f"biomatch.{layer}"] = layer
    packages.append(f"biomatch.{layer}")
    packages += [f"biomatch.{layer}.{sub}" for sub in find_packages(layer)]

# data files shipped inside packages: score calibrations, model checksums, golden files
setup(packages=packages, package_dir=package_dir, package_data={"": ["*.json", "*.csv", "*.npy"]})
