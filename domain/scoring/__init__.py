"""Credit scores: how creditworthy a customer is, each explained by its components."""
