"""Networks: the network verbs and the wiring of containers onto networks."""
