/// Tests use the scratch environments and daemons the `guesthouse bench*` commands use too.
@_exported import GuesthouseBench
