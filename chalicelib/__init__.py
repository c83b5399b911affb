"""cmlbridge: the site side of the 1C CommerceML 2 exchange, as Chalice functions on AWS."""
