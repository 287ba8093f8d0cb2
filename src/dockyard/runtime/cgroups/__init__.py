"""Per-task cgroups on v1 controllers and the v2 unified hierarchy; one module per controller."""
