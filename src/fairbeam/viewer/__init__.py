"""HDF5 content for the browser viewer, with the endpoints and encodings h5grove serves."""
