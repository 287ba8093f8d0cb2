"""One service per resource; every docker verb is a method here."""
