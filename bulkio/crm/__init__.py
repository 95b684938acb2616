"""CRM-specific packages: one per CRM bulkio speaks (Close here; Lightfield still lives at the top level)."""
