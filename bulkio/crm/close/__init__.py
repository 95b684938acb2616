"""Close CRM support: for now its local, Close-compatible sandbox server (:mod:`.sandbox`)."""
