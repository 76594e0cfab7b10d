class DomainError(Exception):
    """A business rule refused an operation (bad transition, closed ticket...).

    Views show `message` to the person; the API answers 400 with it. `field`
    names the input at fault when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
