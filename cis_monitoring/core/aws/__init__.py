"""AWS identifiers: the only code that parses or builds ARNs, Regions and account ids."""
