"""Where donations come from besides the API: provider webhooks and the donate page."""
