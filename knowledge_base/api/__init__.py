"""The knowledge base's REST API, mounted at /api/v1/kb/ (search, articles,
categories): public articles for anyone, the rest for who may read them."""
