"""Data: the dataset.json contract, clinical notes, verification, MONAI preprocessing and the
synthetic multi-center generator. Import the submodules; this package imports nothing heavy."""
