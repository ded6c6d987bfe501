"""Organisations and vacancies: import (CSV/JSON), the fictional demo set, queries."""
