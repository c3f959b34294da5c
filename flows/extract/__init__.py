"""Inbox to typed frames: list, read, parse. Nothing here touches the warehouse."""
