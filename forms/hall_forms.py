"""The hall's registered forms (by formKey)."""
