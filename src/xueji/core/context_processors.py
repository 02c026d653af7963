from xueji.core.navigation import visible_sections
from xueji.core.scope import scope_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    scope = scope_for(user)
    return {"nav_sections": visible_sections(scope, request.path), "scope": scope}
