from xueji.core.navigation import visible_sections
from xueji.core.scope import scope_for
from xueji.packages.installation import offline_installation


def navigation(request):
    # Issue 6: a unit's offline laptop says so on every page, the login page included.
    offline = {"offline_installation": offline_installation()}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": [], **offline}
    scope = scope_for(user)
    return {"nav_sections": visible_sections(scope, request.path), "scope": scope, **offline}
