"""The volume service: docker volume verbs over the local driver."""
