"""Error pages tell nothing about the code, and uploads take only images of a sane size.

With DEBUG off (as in the tests and production), a 400, 403, 404 or 500 page never carries a
stack trace, a file path, a setting's value or the exception's message.
"""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image as PILImage
from wagtail.images.models import Image

from accounts.tests.factories import PASSWORD, UserFactory

LEAKS = ["Traceback", 'File "', "site-packages", "ZeroDivisionError", "Sentry check", "DJANGOSECRETKEY"]


def assert_tells_nothing(response):
    body = response.content.decode()
    for leak in [*LEAKS, settings.SECRET_KEY, str(settings.BASE_DIR)]:
        assert leak not in body, leak


@pytest.fixture
def superuser_client(client, db):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.login(username=admin.email, password=PASSWORD)
    return client


def test_a_500_shows_the_branded_page_and_nothing_of_the_exception(superuser_client):
    superuser_client.raise_request_exception = False

    response = superuser_client.get("/sentry-debug/")

    assert response.status_code == 500
    assert "Le four a surchauffé" in response.content.decode()
    assert_tells_nothing(response)


def test_a_404_tells_nothing(client, home_page):
    response = client.get("/commandes/NOPE-1/")

    assert response.status_code == 404
    assert_tells_nothing(response)


def test_a_403_tells_nothing(client, db):
    client.force_login(UserFactory())

    response = client.get("/sentry-debug/")

    assert response.status_code == 403
    assert_tells_nothing(response)


def test_a_csrf_refusal_tells_nothing(home_page):
    response = Client(enforce_csrf_checks=True).post("/panier/ajouter/", {})

    assert response.status_code == 403
    assert_tells_nothing(response)
    assert "CSRF_COOKIE" not in response.content.decode()


def test_a_400_for_an_unknown_host_tells_nothing(client, db):
    response = client.get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert_tells_nothing(response)
    assert "ALLOWED_HOSTS" not in response.content.decode()


def image_file(name, *, size=(10, 10), mode="RGB", format="PNG"):
    data = io.BytesIO()
    PILImage.new(mode, size).save(data, format=format)
    return SimpleUploadedFile(name, data.getvalue())


def upload(client, file):
    return client.post("/admin/images/add/", {"title": "Photo", "file": file})


def test_upload_limits_are_set():
    assert settings.WAGTAILIMAGES_EXTENSIONS == ["avif", "gif", "jpg", "jpeg", "png", "webp"]
    assert settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE == 10 * 1024 * 1024
    assert settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS == 40_000_000
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    assert "svg" not in settings.WAGTAILDOCS_EXTENSIONS and "html" not in settings.WAGTAILDOCS_EXTENSIONS


def test_a_real_png_is_taken(superuser_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = upload(superuser_client, image_file("photo.png"))

    assert response.status_code == 302
    assert Image.objects.filter(title="Photo").count() == 1


@pytest.mark.parametrize(
    "file",
    [
        SimpleUploadedFile("photo.jpg", b"#!/bin/sh\necho not an image\n"),
        SimpleUploadedFile("photo.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
        SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
    ],
    ids=["script-as-jpg", "pdf-as-jpg", "svg"],
)
def test_what_is_not_a_raster_image_is_refused(superuser_client, settings, tmp_path, file):
    settings.MEDIA_ROOT = tmp_path

    response = upload(superuser_client, file)

    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors["file"]
    assert Image.objects.count() == 0


def test_a_png_named_jpg_is_refused(superuser_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = upload(superuser_client, image_file("photo.jpg"))

    assert response.context["form"].errors["file"] == [
        "Image .jpeg non valide. L'extension de fichier ne correspond pas format du fichier (png)"
    ]
    assert Image.objects.count() == 0


def test_a_small_file_of_too_many_pixels_is_refused(superuser_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bomb = image_file("bomb.png", size=(8000, 6000), mode="1")  # 48 Mpx in a few kilobytes
    assert bomb.size < 100_000

    response = upload(superuser_client, bomb)

    assert response.context["form"].errors["file"] == [
        "Ce fichier a un trop grand nombre de pixels (48000000). Nombre maximum de pixels 40000000."
    ]
    assert Image.objects.count() == 0
