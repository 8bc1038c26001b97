"""French reasons for Square's error codes, shared by the Square provider and the simulator (which
answers with the same codes), so that a customer reads the same sentence whichever runs."""

from django.utils.translation import gettext as _


def decline_message(code):
    """Why the card was refused, for the customer (French), from Square's error `code`
    (category PAYMENT_METHOD_ERROR, or a card token Square cannot use)."""
    messages = {
        "GENERIC_DECLINE": _("Votre banque a refusé le paiement."),
        "CARD_DECLINED": _("Votre banque a refusé le paiement."),
        "CARD_DECLINED_CALL_ISSUER": _("Votre banque a refusé le paiement : contactez-la."),
        "INSUFFICIENT_FUNDS": _("Le solde de la carte est insuffisant."),
        "TRANSACTION_LIMIT": _("Ce montant dépasse le plafond de la carte."),
        "CVV_FAILURE": _("Le cryptogramme de la carte est incorrect."),
        "ADDRESS_VERIFICATION_FAILURE": _("Le code postal de la carte est incorrect."),
        "INVALID_POSTAL_CODE": _("Le code postal de la carte est incorrect."),
        "INVALID_EXPIRATION": _("La date d'expiration de la carte est incorrecte."),
        "BAD_EXPIRATION": _("La date d'expiration de la carte est incorrecte."),
        "EXPIRATION_FAILURE": _("La date d'expiration de la carte est incorrecte."),
        "CARD_EXPIRED": _("La carte a expiré."),
        "CARD_NOT_SUPPORTED": _("Cette carte n'est pas acceptée : essayez-en une autre."),
        "CARD_TOKEN_USED": _("Ce paiement a déjà été utilisé : saisissez votre carte à nouveau."),
        "CARD_TOKEN_EXPIRED": _("La saisie de la carte a expiré : saisissez-la à nouveau."),
        "CARD_DECLINED_VERIFICATION_REQUIRED": _("Votre banque demande une vérification : réessayez."),
    }
    return messages.get(code, _("La carte n'est pas valable."))


def refund_message(code):
    """Why the provider refused a refund, for the member of staff who asked for it (French)."""
    messages = {
        "REFUND_AMOUNT_INVALID": _("Ce montant dépasse ce qui reste à rembourser sur ce paiement."),
        "PAYMENT_NOT_REFUNDABLE": _("Ce paiement ne peut pas être remboursé."),
        "REFUND_ALREADY_PENDING": _("Un remboursement de ce paiement est déjà en cours."),
        "NOT_FOUND": _("Paiement introuvable chez le prestataire."),
        "REFUND_DECLINED": _("La banque du client a refusé le remboursement."),
        "INSUFFICIENT_FUNDS": _("Le solde du compte Square ne permet pas ce remboursement."),
    }
    return messages.get(code, _("Le prestataire de paiement a refusé le remboursement."))
