"""Voice of the customer: surveys, versions, invitations and responses."""
