"""CS Track warehouse: loaders, quality gate, publishing and reports for citizen-science analytics."""

__version__ = "0.1.0"
