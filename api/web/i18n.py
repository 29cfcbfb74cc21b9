"""French and English for the web interface: English text is the key, French its translation.

The catalogue is a plain mapping kept in the repository (no compiled message files,
nothing to build on a fresh machine). A text missing from the French catalogue is
shown in English rather than hidden; the test suite checks that every text the
templates ask for has its French translation.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("fr", "en")
DEFAULT = "fr"

FRENCH: dict[str, str] = {
    "Custody Ledger": "Registre de traçabilité",
    "Sign in": "Se connecter",
    "Sign out": "Se déconnecter",
    "Username": "Identifiant",
    "Password": "Mot de passe",
    "Unknown username or wrong password": "Identifiant inconnu ou mot de passe erroné",
    "Too many failed sign-ins: try again later": "Trop d'échecs de connexion : réessayez plus tard",
    "Worklist": "Liste de travail",
    "Products awaiting my step": "Produits en attente de mon étape",
    "Other products": "Autres produits",
    "Running deadlines": "Délais en cours",
    "Overdue follow-up visits": "Visites de suivi en retard",
    "Nothing is waiting for you.": "Rien ne vous attend.",
    "None.": "Aucun.",
    "Product": "Produit",
    "Products": "Produits",
    "State": "État",
    "Next step": "Prochaine étape",
    "Patient": "Patient",
    "Time left": "Temps restant",
    "overdue": "dépassé",
    "Location": "Emplacement",
    "Custodian": "Détenteur",
    "Holds": "Blocages",
    "Open deviations": "Déviations ouvertes",
    "Timeline": "Historique",
    "Recorded steps": "Étapes enregistrées",
    "Record a step": "Enregistrer une étape",
    "Verification": "Vérification",
    "Chain and signatures verified": "Chaîne et signatures vérifiées",
    "Verification FAILED": "Vérification ÉCHOUÉE",
    "Download the export bundle": "Télécharger le paquet d'export",
    "Label": "Étiquette",
    "Scan the bag's label": "Scannez l'étiquette de la poche",
    "COI matches this product": "Le COI correspond à ce produit",
    "MISMATCH: this label is not this product": "DISCORDANCE : cette étiquette n'est pas ce produit",
    "Sign": "Signer",
    "Cancel": "Annuler",
    "Continue to signature": "Continuer vers la signature",
    "Electronic signature": "Signature électronique",
    "Signed by": "Signé par",
    "Date and time": "Date et heure",
    "Meaning": "Signification",
    "Your password": "Votre mot de passe",
    "When it happened": "Quand cela a eu lieu",
    "Step recorded and signed": "Étape enregistrée et signée",
    "Refused": "Refusé",
    "Not allowed for your role": "Non autorisé pour votre rôle",
    "Inventory": "Inventaire",
    "Patients": "Patients",
    "Audit": "Audit",
    "Metrics": "Indicateurs",
    "Language": "Langue",
    "Main menu": "Menu principal",
    "Skip to content": "Aller au contenu",
    "Shipment": "Expédition",
    "yes": "oui",
    "no": "non",
    "none": "aucun",
    "Back to the product": "Retour au produit",
    "required": "obligatoire",
    "Field": "Champ",
    "Rule": "Règle",
    "Vein-to-vein": "De veine à veine",
    "Not found": "Introuvable",
    "Signed in as": "Connecté en tant que",
    "Shipment steps": "Étapes de l'expédition",
    "Dispatch a shipment with this product": "Expédier ce produit",
}

MEANINGS_FR = {
    "performed": "réalisé",
    "verified": "vérifié",
    "witnessed": "témoin",
    "approved": "approuvé",
    "released": "libéré",
    "received": "reçu",
    "reviewed": "revu",
    "authored": "rédigé",
    "recorded": "enregistré",
    "requested": "demandé",
}


def language(cookie: str | None, accept: str | None) -> str:
    """The chosen language (cookie first), else the browser's first known one, else French."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def translator(lang: str) -> Callable[[str], str]:
    """``t(text)`` for one language."""
    if lang == "fr":
        catalogue = {**FRENCH, **MEANINGS_FR}
        return lambda text: catalogue.get(text, text)
    return lambda text: text
