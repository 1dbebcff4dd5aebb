"""oscar_llm: language models at work in a django-oscar shop."""

__version__ = "0.1.0"
