"""The legacy project's one model."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        app_label = "legacy"
        ordering = ["id"]

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "body": self.body}
