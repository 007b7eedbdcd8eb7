"""Django forms that validate the /items inputs (Django's own validation layer)."""

from django import forms
from django.core.exceptions import ValidationError


class ItemQueryForm(forms.Form):
    id = forms.IntegerField()
    q = forms.CharField(required=False, empty_value=None, strip=False)
    limit = forms.IntegerField(required=False, min_value=1, max_value=100)

    def clean_limit(self) -> int:
        limit = self.cleaned_data["limit"]
        return 10 if limit is None else limit


class StringListField(forms.Field):
    """A JSON list of strings; missing means an empty list."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: object) -> list[str]:
        if value in self.empty_values:
            return []
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            raise ValidationError("Enter a list of strings.", code="invalid")
        return value


class ItemForm(forms.Form):
    name = forms.CharField(strip=False)
    price = forms.FloatField()
    tags = StringListField()

    def clean_name(self) -> str:
        # A JSON number is not a name: reject non-strings instead of str()-ing them.
        if not isinstance(self.data.get("name"), str):
            raise ValidationError("Enter a string.", code="invalid")
        return self.cleaned_data["name"]
