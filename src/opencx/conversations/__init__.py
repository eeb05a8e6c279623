"""The service desk: conversations (tickets) on every channel, their messages, and macros."""
