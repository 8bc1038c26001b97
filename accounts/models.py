from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    """Users log in with their e-mail address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """A person who logs in: customer, store staff, marketing or head office."""

    username = None
    email = models.EmailField(_("adresse e-mail"), unique=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    preferred_store = models.ForeignKey(
        "stores.StorePage",
        verbose_name=_("pizzeria préférée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["email"]

    def __str__(self):
        return self.get_full_name() or self.email


class Address(models.Model):
    """A delivery address the customer saved; one of them may be the default."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(
        _("nom"), max_length=50, blank=True, help_text=_("Par exemple : Maison, Bureau.")
    )
    street_address = models.CharField(_("adresse"), max_length=255)
    postcode = models.CharField(
        _("code postal"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("Un code postal a cinq chiffres."))],
    )
    city = models.CharField(_("ville"), max_length=100)
    details = models.CharField(
        _("complément"), max_length=255, blank=True, help_text=_("Étage, digicode, interphone…")
    )
    is_default = models.BooleanField(_("adresse par défaut"), default=False)
    # Geocoded when saved from the account pages (`AddressForm`); the checkout reuses them instead
    # of geocoding the address again. Empty for an address saved before geocoding existed.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("adresse de livraison")
        verbose_name_plural = _("adresses de livraison")
        ordering = ["-is_default", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="one_default_address_per_user"
            )
        ]

    def __str__(self):
        place = f"{self.street_address}, {self.postcode} {self.city}"
        return f"{self.label} — {place}" if self.label else place

    def save(self, *args, **kwargs):
        """The first address is the default; a new default takes the place of the old one."""
        with transaction.atomic():
            others = Address.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
            if not self.is_default and not others.exists():
                self.is_default = True
            if self.is_default:
                others.filter(is_default=True).update(is_default=False)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """Deleting the default makes the next address (if any) the default."""
        with transaction.atomic():
            result = super().delete(*args, **kwargs)
            if self.is_default:
                following = Address.objects.filter(user_id=self.user_id).order_by("id").first()
                if following is not None:
                    following.is_default = True
                    following.save(update_fields=["is_default"])
            return result

    def as_dict(self):
        return {
            "label": self.label,
            "street_address": self.street_address,
            "postcode": self.postcode,
            "city": self.city,
            "details": self.details,
            "is_default": self.is_default,
            "latitude": None if self.latitude is None else str(self.latitude),
            "longitude": None if self.longitude is None else str(self.longitude),
        }
