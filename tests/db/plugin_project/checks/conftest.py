pytest_plugins = ["trivium.db.testing"]
