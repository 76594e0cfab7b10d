"""The knowledge base's pages: the public help centre (views/public.py) and
the staff editor (views/editor.py)."""
