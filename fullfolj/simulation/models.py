"""The simulator keeps no tables in the product's database.

Its ground truth (which pupils it made escalate, and from when) is written by the loader as a
Parquet file beside the data and handed to the evaluation by whoever runs it
(`fullfolj screen --evaluate --truth FILE`), so no product query can read it.
"""
