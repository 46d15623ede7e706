"""Learning: learned scorers from recorded outcomes, and evaluation against documented dockings."""
