"""The shop's first models: what its first migration makes."""
import uuid

from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True)
    joined = models.DateTimeField(auto_now_add=True)
    profile = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["name"])]


class Product(models.Model):
    sku = models.CharField(max_length=20, unique=True)
    price = models.DecimalField(max_digits=24, decimal_places=4)
    stock = models.IntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(stock__gte=0), name="stock_not_negative")]


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    placed = models.DateTimeField()
    products = models.ManyToManyField(Product, through="Line")
    note = models.TextField(blank=True, default="")


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()

    class Meta:
        unique_together = [("order", "product")]
