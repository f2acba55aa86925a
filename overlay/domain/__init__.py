"""The domain: money, donations, alerts, moderation, incentives. Plain data and rules, no I/O."""
