"""The per-value-type parsers behind :mod:`bulkio.values` (internal: import from ``bulkio.values``).

``common`` (options, helpers) · ``numbers`` (NUMBER, CURRENCY, CHECKBOX) · ``dates`` (DATETIME) ·
``contact_points`` (EMAIL, URL, TELEPHONE, SOCIAL_HANDLE) · ``options`` (selects) ·
``compound`` (ADDRESS, FULL_NAME). Each parser is ``(field, raw, options) -> API value`` and raises
``common._Bad`` for a bad cell; :func:`bulkio.values.parse_cell` turns that into a ``Parsed`` error.
"""
