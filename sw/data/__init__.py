"""Data access: the data root, MIT-BIH records, Pławiak fragments, splits, verification."""
