"""Channel adapters: each turns what its channel delivers into service-desk messages and sends replies."""
