"""Widget registry (placeholder until the widgets land)."""
WIDGETS = ("alert", "goal", "match", "sticker", "ticker", "leaderboard", "scene")
