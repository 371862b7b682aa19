"""Provider callbacks on one road: a base receiver owning the loop, one receiver per provider."""
