from django.utils.functional import SimpleLazyObject

from xueji.core.navigation import menu_markup
from xueji.core.scope import scope_for
from xueji.packages.installation import offline_banner


def navigation(request):
    # Lazy: a page asks for them when its layout shows them, a fragment (the list's
    # search results, as htmx asks for them) never does, and then pays for neither query.
    # Issue 6: a unit's offline laptop says so on every page, the login page included.
    offline = {"offline_banner": SimpleLazyObject(lambda: offline_banner(request))}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_menu": "", **offline}
    scope = scope_for(user)
    menu = SimpleLazyObject(lambda: menu_markup(scope, request.path))
    return {"nav_menu": menu, "scope": scope, **offline}
