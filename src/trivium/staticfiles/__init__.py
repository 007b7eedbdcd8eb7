"""Static files: serve a directory or package resources, with content-hashed URLs.

```python
from trivium.staticfiles import StaticFiles, static_url

app.mount("/static", StaticFiles(directory="static"), name="static")
static_url(request, "css/app.css")  # "/static/css/app.css?v=3f2a9c0b1d4e"
```
"""

from __future__ import annotations

from trivium.staticfiles._static import StaticFiles
from trivium.staticfiles._static import static_url

__all__ = ["StaticFiles", "static_url"]
