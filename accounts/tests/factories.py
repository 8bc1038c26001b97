import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.models import Address, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    """A user whose e-mail is confirmed (as every account made before allauth), unless
    `email_verified=False`."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def groups(self, create, names, **kwargs):
        if create and names:
            self.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])

    @factory.post_generation
    def email_verified(self, create, verified, **kwargs):
        if create and verified is not False:
            EmailAddress.objects.create(user=self, email=self.email.lower(), verified=True, primary=True)


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    label = "Maison"
    street_address = factory.Sequence(lambda n: f"{n + 1} rue de la Pizza")
    postcode = "69009"
    city = "Lyon"
