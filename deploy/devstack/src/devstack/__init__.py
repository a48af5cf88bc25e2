"""`segctl`: runs the platform on the local stack, seeds demo data, tails topics."""
