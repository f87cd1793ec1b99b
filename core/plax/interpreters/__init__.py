"""Interpreters of jaxprs and the traces behind the transformations."""
