"""A labelled sample set for the redaction tests: real-looking text, the personal data in it.

Each item is (text, [(kind, exact substring), ...]). Negatives have an empty list: order numbers,
invoice references, ordinary dates, numbers whose checksum fails. Check digits of the positives
were computed with their schemes (mod-97, Luhn, mod-11) or come from issuers' published test
numbers; none belongs to a real person.
"""

from __future__ import annotations

SAMPLES: list[tuple[str, list[tuple[str, str]]]] = [
    # -- e-mail ---------------------------------------------------------------------------------
    ("Please send the discharge letter to maria.gonzales@nhs.net by Friday.", [("email", "maria.gonzales@nhs.net")]),
    ("Contact: j.o'brien-smith@stjames.ie (ward manager)", [("email", "j.o'brien-smith@stjames.ie")]),
    ("Forwarded from Pieter.Maas+rota@umcg.nl at 09:14.", [("email", "Pieter.Maas+rota@umcg.nl")]),
    ("Patient email on file: kwame_asante1977@gmail.com; prefers phone.", [("email", "kwame_asante1977@gmail.com")]),
    ("cc: finance-team@bank.co.uk, a.nowak@bank.co.uk", [("email", "finance-team@bank.co.uk"), ("email", "a.nowak@bank.co.uk")]),
    ("<li.wei@hospital.org.au>", [("email", "li.wei@hospital.org.au")]),
    ("Reply to SARAH.CONNOR@EXAMPLE.COM", [("email", "SARAH.CONNOR@EXAMPLE.COM")]),
    ("The loan officer (t.mueller@sparkasse-koeln.de) approved the request.", [("email", "t.mueller@sparkasse-koeln.de")]),
    # -- phone numbers --------------------------------------------------------------------------
    ("Call the patient's daughter on 07911 123456 after 6pm.", [("phone", "07911 123456")]),
    ("Pharmacy: 020 7946 0958, ext. 4", [("phone", "020 7946 0958")]),
    ("Next of kin: +44 20 7946 0958 (husband)", [("phone", "+44 20 7946 0958")]),
    ("Client callback number (415) 555-2671.", [("phone", "(415) 555-2671")]),
    ("Her cell is 415-555-2671 and she works nights.", [("phone", "415-555-2671")]),
    ("Berlin office +49 30 901820, ask for Frau Weber.", [("phone", "+49 30 901820")]),
    ("Joindre le médecin traitant au +33 1 42 68 53 00.", [("phone", "+33 1 42 68 53 00")]),
    ("Mobile: 06 12 34 56 78", [("phone", "06 12 34 56 78")]),
    ("Reception Amsterdam +31 20 624 1111.", [("phone", "+31 20 624 1111")]),
    ("GP surgery 0161 496 0123 (Manchester).", [("phone", "0161 496 0123")]),
    ("Broker desk 212 555 0199, after hours +1 212 867 5309.", [("phone", "212 555 0199"), ("phone", "+1 212 867 5309")]),
    ("Sydney clinic (02) 9374 4000", [("phone", "(02) 9374 4000")]),
    ("Dublin branch: +353 1 677 0095", [("phone", "+353 1 677 0095")]),
    ("tel 4155552671", [("phone", "4155552671")]),
    ("Ring 07700 911 222 if the dressing leaks.", [("phone", "07700 911 222")]),
    # -- IBANs ----------------------------------------------------------------------------------
    ("Refund to IBAN GB29 NWBK 6016 1331 9268 19 within 5 days.", [("iban", "GB29 NWBK 6016 1331 9268 19")]),
    ("Überweisung an DE89 3704 0044 0532 0130 00 (Gehalt).", [("iban", "DE89 3704 0044 0532 0130 00")]),
    ("Compte: FR14 2004 1010 0505 0001 3M02 606", [("iban", "FR14 2004 1010 0505 0001 3M02 606")]),
    ("Rekening NL91ABNA0417164300 t.n.v. J. de Vries", [("iban", "NL91ABNA0417164300")]),
    ("IBAN ES91 2100 0418 4502 0005 1332 BIC CAIXESBBXXX", [("iban", "ES91 2100 0418 4502 0005 1332")]),
    ("Pay IE29 AIBK 9311 5212 3456 78 TO cover the invoice", [("iban", "IE29 AIBK 9311 5212 3456 78")]),
    ("Account BE71 0961 2345 6769.", [("iban", "BE71 0961 2345 6769")]),
    ("it60x0542811101000000123456 (lower case, copied from a form)", [("iban", "it60x0542811101000000123456")]),
    # -- payment cards --------------------------------------------------------------------------
    ("Card on file: 4526 0181 5908 3012, exp 09/27.", [("card", "4526 0181 5908 3012")]),
    ("Disputed charge on 4661318609139090 (Visa).", [("card", "4661318609139090")]),
    ("Mastercard 5196-0308-2462-8192 was blocked.", [("card", "5196-0308-2462-8192")]),
    ("New-range Mastercard 2221 4821 9935 1817", [("card", "2221 4821 9935 1817")]),
    ("Amex 3790 937865 79753 used at the pharmacy", [("card", "3790 937865 79753")]),
    ("Discover 6011 4323 1948 7574.", [("card", "6011 4323 1948 7574")]),
    ("JCB card 3549118625276011 charged twice", [("card", "3549118625276011")]),
    ("Test card 4111 1111 1111 1111 was used.", [("card", "4111 1111 1111 1111")]),
    ("Old 13-digit Visa 4895559797112", [("card", "4895559797112")]),
    ("Corporate card 5555 5555 5555 4444 (travel)", [("card", "5555 5555 5555 4444")]),
    # -- US SSNs --------------------------------------------------------------------------------
    ("SSN: 536-90-4399", [("ssn", "536-90-4399")]),
    ("Applicant social security number 372-48-1290 verified.", [("ssn", "372-48-1290")]),
    ("Co-signer 601 73 2288", [("ssn", "601 73 2288")]),
    ("SSN 145660921 on the W-2", [("ssn", "145660921")]),
    # -- UK NHS numbers -------------------------------------------------------------------------
    ("NHS number 787 789 3280, Ward 7B", [("nhs", "787 789 3280")]),
    ("NHS No: 7921742181", [("nhs", "7921742181")]),
    ("Patient (NHS 096 792 9083) admitted via A&E.", [("nhs", "096 792 9083")]),
    ("Referral for 100-339-0757 sent to cardiology.", [("nhs", "100-339-0757")]),
    ("NHS number: 793 834 7019; allergies: penicillin", [("nhs", "793 834 7019")]),
    ("nhs no. 7468145385", [("nhs", "7468145385")]),
    # -- dates of birth -------------------------------------------------------------------------
    ("DOB: 12/03/1984", [("dob", "12/03/1984")]),
    ("Date of birth 1979-11-02, blood group O+", [("dob", "1979-11-02")]),
    ("Mr Asante (born 3 March 1951) was admitted on 14/02/2024.", [("dob", "3 March 1951")]),
    ("Born on July 4, 1962 in Leeds.", [("dob", "July 4, 1962")]),
    ("D.O.B. 05.06.1990", [("dob", "05.06.1990")]),
    ("birthdate: 21st of September 2001", [("dob", "21st of September 2001")]),
    ("geb. 17.08.1948, wohnhaft in Köln", [("dob", "17.08.1948")]),
    ("Patient DOB 7/9/56, NKDA", [("dob", "7/9/56")]),
    # -- several in one passage -----------------------------------------------------------------
    ("Maria Gonzales, DOB 02/11/1958, NHS 787 789 3280, tel 07911 123456, maria.g@mail.com",
     [("dob", "02/11/1958"), ("nhs", "787 789 3280"), ("phone", "07911 123456"), ("email", "maria.g@mail.com")]),
    ("Wire EUR 4,200 from DE89 3704 0044 0532 0130 00 to card 4526 0181 5908 3012 on 03/04/2024.",
     [("iban", "DE89 3704 0044 0532 0130 00"), ("card", "4526 0181 5908 3012")]),
    ("Customer 536-90-4399 (born 1 Jan 1970) called from +1 212 867 5309.",
     [("ssn", "536-90-4399"), ("dob", "1 Jan 1970"), ("phone", "+1 212 867 5309")]),
    # -- tricky negatives -----------------------------------------------------------------------
    ("Order number 4021 5543 1209 8873 ships Tuesday.", []),  # 16 digits, fails Luhn
    ("Invoice INV-2024-000731 is overdue.", []),
    ("Tracking 1Z999AA10123456784 (UPS).", []),
    ("Reference 20240312-0042", []),
    ("Appointment on 12/03/2024 at 10:30 in clinic 4.", []),
    ("Admitted 2024-02-14, discharged 2024-02-19.", []),
    ("Follow-up on 3 March 2025 with Dr. Maas.", []),
    ("The policy was updated on July 4, 2023.", []),
    ("Batch 4111 1111 1111 1112 was recalled.", []),  # Luhn fails
    ("Lot 1234567812345678", []),  # Luhn-valid but no card issuer starts with 1
    ("Case ID 787 789 3281", []),  # NHS checksum fails
    ("Account 7283783262", []),  # ten digits, no NHS context (and checksum fails)
    ("Stock item 6166304944 reordered.", []),
    ("Ref 219-09-9999", []),  # a number the SSA never issues
    ("Part 078-05-1120", []),  # the famous wallet-card SSN, never valid
    ("Serial 666-12-3456", []),
    ("Room 901-22-3333", []),
    ("GB00 NWBK 6016 1331 9268 19", []),  # IBAN check digits wrong
    ("DE00 3704 0044 0532 0130 00 (typo in the form)", []),
    ("Product code AB12 CDEF 3456 7890 12", []),
    ("ISBN 978-0-306-40615-7", []),
    ("Dose 2.5 mg at 08:00, 14:00 and 20:00.", []),
    ("Blood pressure 120/80, pulse 72, SpO2 98%.", []),
    ("Ward 7B, bed 12, extension 4471.", []),
    ("The loan is EUR 250,000.00 at 3.25% for 25 years.", []),
    ("Q3 revenue 1,234,567,890 (up 4.5%).", []),
    ("Version 10.4.3.2021 released.", []),
    ("GPS 52.3676, 4.9041", []),
    ("Patient aged 45 presented with chest pain.", []),
    ("Born in 1962 is not a date of birth we can redact.", []),
    ("Use the user@localhost alias only in tests", []),
    ("Email the ward (no address given).", []),
    ("Twitter handle @nurse_jane", []),
    ("Timestamp 1709251200 (Unix).", []),
    ("Fax number to follow.", []),
    ("Call 111 or 999 in an emergency.", []),
    ("Sort code 20-00-00", []),
    ("BIC DEUTDEFF", []),
    ("Meeting room 2.14, floor 2.", []),
    ("Amount due: 4526.01", []),
    ("Latitude 51.5072 and longitude -0.1276", []),
    ("Order 4155552671 was cancelled.", []),  # a valid US number's digits, but unformatted and no phone context
    ("Claim no. 0967929084", []),  # NHS checksum fails
    ("Reference 4012-8888-8888-1882", []),  # Luhn fails
    ("MRN 00123456", []),
    ("Lab sample 2024/03/12/0042", []),
    ("Shift 12/03 - 19/03", []),
    ("Visit date 05.06.2023", []),
    ("Expiry 09/27", []),
    ("Chapter 3.2.1 on consent", []),
    ("Bed 3 of 12, ward 4", []),
    ("File name report_2024_03_12.pdf", []),
]

#: Written after the detectors were tuned on SAMPLES, and never tuned on: an honest estimate.
HELD_OUT: list[tuple[str, list[tuple[str, str]]]] = [
    ("Escalate to duty.manager@royalfree.nhs.uk if no reply.", [("email", "duty.manager@royalfree.nhs.uk")]),
    ("Kind regards, Dr. O. Adeyemi <o.adeyemi@kch-tr.nhs.uk>", [("email", "o.adeyemi@kch-tr.nhs.uk")]),
    ("Mobile 07845 612 390, landline 0113 496 0871", [("phone", "07845 612 390"), ("phone", "0113 496 0871")]),
    ("Reach me at +1-646-555-0143 tomorrow.", [("phone", "+1-646-555-0143")]),
    ("Tel. +49 (0)89 2180 0 (Zentrale)", [("phone", "+49 (0)89 2180 0")]),
    ("Huisarts: 020-5555555", []),
    ("Please pay into GB33 BUKB 2020 1555 5555 55.", [("iban", "GB33 BUKB 2020 1555 5555 55")]),
    ("IBAN: AT61 1904 3002 3457 3201", [("iban", "AT61 1904 3002 3457 3201")]),
    ("The IBAN GB33 BUKB 2020 1555 5555 56 was rejected by the bank.", []),
    ("Refund issued to Visa ending 4242 4242 4242 4242.", [("card", "4242 4242 4242 4242")]),
    ("Card: 5105 1051 0510 5100", [("card", "5105 1051 0510 5100")]),
    ("Amex 3714 496353 98431 declined", [("card", "3714 496353 98431")]),
    ("Voucher 5105 1051 0510 5101 expired", []),
    ("SSN 078-05-1121 on the form", [("ssn", "078-05-1121")]),
    ("Taxpayer SSN: 212-67-8890", [("ssn", "212-67-8890")]),
    ("Phone extension 123-45-6789 is not an SSN format we see here", [("ssn", "123-45-6789")]),
    ("NHS Number 943 476 5919 confirmed.", [("nhs", "943 476 5919")]),
    ("NHS#: 4010232137", [("nhs", "4010232137")]),
    ("Booking ref 943 476 5910", []),
    ("DOB - 30/06/1975", [("dob", "30/06/1975")]),
    ("Date of Birth: 14 Feb 1969", [("dob", "14 Feb 1969")]),
    ("He was born 1988-09-23 in Utrecht.", [("dob", "1988-09-23")]),
    ("Scan booked for 30/06/2025.", []),
    ("Invoice date 14 Feb 2024, due 14 Mar 2024.", []),
    ("Order #100-2233-4455 confirmed", []),
    ("Account number 12345678, sort code 20-00-00", []),
    ("Version 2.14.0 (build 20240612)", []),
    ("Call centre hours 08:00-20:00", []),
    ("Temperature 37.8, RR 18, HR 104", []),
    ("Transaction 000123456789 settled", []),
]
