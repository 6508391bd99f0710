"""Domain files, from YAML on disk to what a request reads.

``fileformat`` (the YAML contract, pydantic) -> ``records`` (frozen records
renderers use) -> ``load`` (reading one file, located messages) ->
``registry`` (every served domain) -> ``store`` (the snapshot a server holds
and how it reloads).
"""
