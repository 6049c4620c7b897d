"""The lending business: tables, money, rules and the services that apply them."""
