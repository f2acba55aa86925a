"""What every HTTP side shares (the API, the donate page and webhooks, the live page): errors, pages, client addresses, limits, strict JSON."""
